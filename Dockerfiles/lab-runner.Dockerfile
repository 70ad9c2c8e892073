# The lab-runner (with the Kubernetes backend: no Envoy in the image), labctl, the labs and bookinfo's manifests.
# Build from the repository root:  docker build -f Dockerfiles/lab-runner.Dockerfile -t meshdojo/lab-runner:0.1.0 .
# Deploy it with:  kubectl apply -k manifests/lab-runner/overlays/postgres   (or overlays/sqlite)
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product lab-runner \
 && swift build -c release --static-swift-stdlib --product labctl \
 && bin="$(swift build -c release --static-swift-stdlib --show-bin-path)" \
 && install -D -m 0755 "$bin/lab-runner" /out/lab-runner \
 && install -D -m 0755 "$bin/labctl" /out/labctl \
 && strip /out/lab-runner /out/labctl

FROM ${RUNTIME_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libstdc++6 zlib1g ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/lab-runner /usr/local/bin/lab-runner
COPY --from=build /out/labctl /usr/local/bin/labctl
COPY labs /usr/share/meshdojo/labs
COPY bookinfo /usr/share/meshdojo/bookinfo
ENV MESHDOJO_HOME=/usr/share/meshdojo \
    MESHDOJO_STATE=/var/lib/meshdojo
RUN install -d -o 65532 -g 65532 /var/lib/meshdojo
USER 65532:65532
WORKDIR /usr/share/meshdojo
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/lab-runner"]
CMD ["--backend", "kubernetes", "--host", "0.0.0.0", "--port", "8080"]
