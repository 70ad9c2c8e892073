/// `GET /` and `/index.html`: the service tree and two links (spec §2.7).
enum LandingPage {
    static func render(_ configuration: ProductpageConfiguration) -> String {
        func node(_ name: String, _ endpoint: String, children: String = "") -> String {
            var row = "<tr><th>name</th><td>\(htmlEscape(name))</td></tr><tr><th>endpoint</th><td>\(endpoint)</td></tr>"
            if !children.isEmpty { row += "<tr><th>children</th><td>\(children)</td></tr>" }
            return "<table class=\"table table-condensed table-bordered table-hover\">\(row)</table>"
        }
        let ratings = node(configuration.ratingsBase, "ratings")
        let children = "<ul><li>" + node(configuration.detailsBase, "details") + "</li><li>"
            + node(configuration.reviewsBase, "reviews", children: "<ul><li>\(ratings)</li></ul>") + "</li></ul>"
        let tree = node(configuration.detailsBase, "details", children: children)
        return """
            <!DOCTYPE html>
            <html>
              <head>
                <title>Simple Bookstore App</title>
                <meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1.0">
                <link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/3.3.5/css/bootstrap.min.css">
              </head>
              <body>
                <p><h3>Hello! This is a simple bookstore application consisting of three services as shown below</h3></p>
                \(tree)
                <p><h4>Click on one of the links below to auto generate a request to the backend as a real user or a tester</h4></p>
                <p><a href="/productpage?u=normal">Normal user</a></p>
                <p><a href="/productpage?u=test">Test user</a></p>
              </body>
            </html>
            """
    }
}
