# syntax=docker/dockerfile:1
#
# The natsd container image: a static binary in an empty image, run as a
# non-root user, with a default configuration like the official nats
# image's (clients 4222, cluster 6222, monitoring 8222). See docs/docker.md.
#
#   docker build -t natsd .
#   docker run -p 4222:4222 -p 8222:8222 natsd
#   docker run natsd -js            # arguments replace the default config

# --- build: the static binary ------------------------------------------------
FROM golang:1.26-alpine AS build
WORKDIR /src
# Modules first, so a source change keeps the download layer cached.
COPY go.work go.work.sum ./
COPY protocol/go.mod protocol/go.sum* protocol/
COPY sublist/go.mod sublist/go.sum* sublist/
COPY confparse/go.mod confparse/go.sum* confparse/
COPY websocket/go.mod websocket/go.sum* websocket/
COPY auth/go.mod auth/go.sum* auth/
COPY server/go.mod server/go.sum* server/
COPY cluster/go.mod cluster/go.sum* cluster/
COPY jetstream/go.mod jetstream/go.sum* jetstream/
COPY mqtt/go.mod mqtt/go.sum* mqtt/
COPY monitor/go.mod monitor/go.sum* monitor/
COPY cmd/go.mod cmd/go.sum* cmd/
RUN cd cmd && go mod download
COPY . .
# CGO_ENABLED=0: no libc, so the binary runs in an image with nothing else.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/nats-server ./cmd/nats-server
# The final image has no shell: its directories and users are made here.
# /tmp is JetStream's default store (-js without -sd); /data, owned by the
# server's user, is where the documentation mounts volumes (-sd /data).
# Each is copied as a subdirectory so its mode and owner carry over.
RUN mkdir -p /rootfs/etc /rootfs/tmp /owned/data \
 && chmod 1777 /rootfs/tmp \
 && echo 'nats:x:65532:65532:nats:/data:/sbin/nologin' > /rootfs/etc/passwd \
 && echo 'nats:x:65532:' > /rootfs/etc/group

# --- the image ---------------------------------------------------------------
FROM scratch
COPY --from=build /rootfs/ /
COPY --from=build --chown=65532:65532 /owned/ /
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/nats-server /nats-server
COPY docker/nats-server.conf /etc/nats/nats-server.conf
# The official image's scratch variant keeps its file here; both paths work.
COPY docker/nats-server.conf /nats-server.conf
# The default configuration's cluster routes (none); -e NATS_ROUTES='[...]'
# names peers.
ENV NATS_ROUTES=[]
USER 65532:65532
EXPOSE 4222 6222 8222
ENTRYPOINT ["/nats-server"]
CMD ["--config", "/etc/nats/nats-server.conf"]
