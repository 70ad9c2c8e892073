/// Which local executable runs a container image.
///
/// This project's images (`meshdojo/<service>`, any registry or tag) and Istio's own bookinfo
/// images (`…/examples-bookinfo-<service>-<version>`, whose version is baked in) both map to the
/// Swift executables; so the same `bookinfo.yaml` that Kubernetes uses, or Istio's unchanged,
/// deploys locally.
public enum ImageCatalog {
    public static let services: Set<String> = ["productpage", "details", "reviews", "ratings"]

    /// The executable and the environment the image would have baked in; nil for other images.
    public static func resolve(_ image: String) -> (executable: String, environment: [String: String])? {
        let path = image.split(separator: "@")[0]
        let lastComponent = path.split(separator: "/").last.map(String.init) ?? ""
        let name = String(lastComponent.split(separator: ":")[0])
        if services.contains(name) { return (name, [:]) }
        guard name.hasPrefix("examples-bookinfo-") else { return nil }
        let rest = name.dropFirst("examples-bookinfo-".count)
        guard let dash = rest.firstIndex(of: "-") else { return nil }
        let service = String(rest[..<dash])
        let version = String(rest[rest.index(after: dash)...])
        guard services.contains(service) else { return nil }
        var environment = ["SERVICE_VERSION": version]
        switch (service, version) {
        case ("reviews", "v1"): environment.merge(["ENABLE_RATINGS": "false", "STAR_COLOR": "black"]) { $1 }
        case ("reviews", "v2"): environment.merge(["ENABLE_RATINGS": "true", "STAR_COLOR": "black"]) { $1 }
        case ("reviews", "v3"): environment.merge(["ENABLE_RATINGS": "true", "STAR_COLOR": "red"]) { $1 }
        case ("details", "v2"): environment["ENABLE_EXTERNAL_BOOK_SERVICE"] = "true"
        default: break
        }
        return (service, environment)
    }
}
