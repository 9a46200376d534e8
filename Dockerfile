# syntax=docker/dockerfile:1
# Two stages: Node and npm install the dependencies (Bun among them) and compile the single binary;
# the runtime image holds that binary alone and runs it as a non-root user.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The project's postinstall needs the sources, copied below; the build makes what it would have made.
# Bun's own install script still runs: it puts the bun binary in place.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild bun
COPY tsconfig.json bunfig.toml ./
COPY scripts ./scripts
COPY src ./src
COPY migrations ./migrations
RUN node_modules/.bin/bun run build \
 && dist/wallet --version \
 && mkdir -p /data

# glibc is all the binary needs; distroless has no shell and runs as uid 65532.
FROM gcr.io/distroless/base-debian12:nonroot
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
