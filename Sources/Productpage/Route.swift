/// The productpage routes (spec §2.2) and the methods each answers.
enum Route: Equatable {
    case index, health, login, logout, productpage, products
    case product(String), productReviews(String), productRatings(String)
    case staticFile(String)

    /// The route for a path, or nil (404). Trailing slashes are not accepted, as in Flask.
    init?(path: String) {
        switch path {
        case "/", "/index.html": self = .index
        case "/health": self = .health
        case "/login": self = .login
        case "/logout": self = .logout
        case "/productpage": self = .productpage
        case "/api/v1/products": self = .products
        default:
            if path.hasPrefix("/static/"), path.count > 8, !path.contains("..") {
                self = .staticFile(String(path.dropFirst(8)))
                return
            }
            guard path.hasPrefix("/api/v1/products/") else { return nil }
            let rest = path.dropFirst("/api/v1/products/".count).split(separator: "/", omittingEmptySubsequences: false)
            guard let id = rest.first, !id.isEmpty else { return nil }
            switch rest.count {
            case 1: self = .product(String(id))
            case 2 where rest[1] == "reviews": self = .productReviews(String(id))
            case 2 where rest[1] == "ratings": self = .productRatings(String(id))
            default: return nil
            }
        }
    }

    /// Methods answered besides OPTIONS; Flask lets every GET route answer HEAD too.
    var methods: [String] {
        switch self {
        case .login: ["POST", "OPTIONS"]
        default: ["GET", "HEAD", "OPTIONS"]
        }
    }

    /// The metrics label.
    var label: String {
        switch self {
        case .index: "/"
        case .health: "/health"
        case .login: "/login"
        case .logout: "/logout"
        case .productpage: "/productpage"
        case .products: "/api/v1/products"
        case .product: "/api/v1/products/:id"
        case .productReviews: "/api/v1/products/:id/reviews"
        case .productRatings: "/api/v1/products/:id/ratings"
        case .staticFile: "/static"
        }
    }
}
