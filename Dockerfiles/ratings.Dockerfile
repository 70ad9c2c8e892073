# The ratings service of Istio's bookinfo, in Swift (SERVICE_VERSION: v1, v2, v-faulty, v-delayed, v-unavailable, v-unhealthy).
# Build from the repository root:  docker build -f Dockerfiles/ratings.Dockerfile -t meshdojo/ratings:0.1.0 .
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product ratings \
 && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/ratings" /out/ratings \
 && strip /out/ratings

FROM ${RUNTIME_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libstdc++6 zlib1g ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ratings /usr/local/bin/ratings
USER 65532:65532
EXPOSE 9080
ENTRYPOINT ["/usr/local/bin/ratings"]
CMD ["9080"]
