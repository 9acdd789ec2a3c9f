"""The admin console: a server-rendered web UI over the DirectoryAdmin and PortalAdmin gRPC APIs."""
