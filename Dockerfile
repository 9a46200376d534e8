# syntax=docker/dockerfile:1
# Two stages: Bun installs the runtime dependencies and compiles the single binary; the runtime image
# holds that binary alone and runs it as a non-root user.
#
# Both base images are build arguments, so the same file builds from a registry (the defaults) or from
# bases made locally (tests/ship/container.test.ts makes them from Debian's packages):
#   BUN_IMAGE      Bun on a glibc Linux with bun on PATH; keep its version the one package-lock.json
#                  pins for the "bun" package (what the tests run on).
#   RUNTIME_IMAGE  glibc and nothing the service needs beyond it: no shell is used in that stage.
# Podman: `podman build --format docker` (the OCI format drops HEALTHCHECK).
ARG BUN_IMAGE=oven/bun:1.4.5
ARG RUNTIME_IMAGE=gcr.io/distroless/base-debian12:nonroot

FROM ${BUN_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The dependencies the binary bundles, at package-lock.json's versions (Bun reads npm's lockfile).
# No scripts: the project's postinstall needs the sources, and the build below makes what it makes.
RUN bun install --frozen-lockfile --production --ignore-scripts
COPY tsconfig.json bunfig.toml ./
COPY scripts ./scripts
COPY src ./src
COPY migrations ./migrations
RUN bun run build \
 && dist/wallet --version \
 && mkdir -p /data

# glibc is all the binary needs; distroless has no shell and runs as uid 65532.
FROM ${RUNTIME_IMAGE}
COPY --from=build /src/dist/wallet /app/wallet
COPY --from=build --chown=65532:65532 /data /data
ENV PORT=3000 \
    DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 3000
USER 65532:65532
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["/app/wallet", "healthcheck"]
ENTRYPOINT ["/app/wallet"]
CMD ["serve"]
