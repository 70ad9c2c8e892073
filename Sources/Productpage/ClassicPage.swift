/// The product page in Istio 1.0.6's Bootstrap markup, reproducing the Jinja output byte for byte
/// (the blank lines that template tags leave are part of it; spec §2.6.1). Only the four asset
/// addresses vary: 1.0.6's CDNs, or the productpage's own `/static/` files.
enum ClassicPage {
    /// Where the page loads Bootstrap and jQuery from.
    struct Assets: Sendable, Equatable {
        var bootstrapCSS: String
        var bootstrapThemeCSS: String
        var jquery: String
        var bootstrapJS: String

        /// Istio 1.0.6's links: Bootstrap 3.3.5 from maxcdn, jQuery 2.1.4 from Google.
        static let cdn = Assets(
            bootstrapCSS: "https://maxcdn.bootstrapcdn.com/bootstrap/3.3.5/css/bootstrap.min.css",
            bootstrapThemeCSS: "https://maxcdn.bootstrapcdn.com/bootstrap/3.3.5/css/bootstrap-theme.min.css",
            jquery: "https://ajax.googleapis.com/ajax/libs/jquery/2.1.4/jquery.min.js",
            bootstrapJS: "https://maxcdn.bootstrapcdn.com/bootstrap/3.3.5/js/bootstrap.min.js")

        /// The productpage's own files, at the relative paths Istio 1.1 and later link.
        static let local = Assets(
            bootstrapCSS: "static/bootstrap/css/bootstrap.min.css",
            bootstrapThemeCSS: "static/bootstrap/css/bootstrap-theme.min.css",
            jquery: "static/jquery.min.js",
            bootstrapJS: "static/bootstrap/js/bootstrap.min.js")
    }

    static func render(_ page: PageModel, assets: Assets) -> String {
        var out = head(assets)
        out += navigation(page)
        out += loginModal
        out += summary
        out += details(page.details)
        out += "\n    </div>\n\n    <div class=\"col-md-6\">\n      "
        out += reviews(page)
        out += foot(assets)
        return out
    }

    static func head(_ assets: Assets) -> String {
        """
        <!DOCTYPE html>
        <html>
          <head>
            <title>Simple Bookstore App</title>
        <meta charset="utf-8">
        <meta http-equiv="X-UA-Compatible" content="IE=edge">
        <meta name="viewport" content="width=device-width, initial-scale=1.0">

        <!-- Latest compiled and minified CSS -->
        <link rel="stylesheet" href="\(assets.bootstrapCSS)">

        <!-- Optional theme -->
        <link rel="stylesheet" href="\(assets.bootstrapThemeCSS)">

          </head>
          <body>
            \("")
            \("")

        <nav class="navbar navbar-inverse navbar-static-top">
            <div class="container">
                <div class="navbar-header">
                    <a class="navbar-brand" href="#">BookInfo Sample</a>
                </div>
                
        """
    }

    static func navigation(_ page: PageModel) -> String {
        var out = ""
        if page.signedIn {
            let user = htmlEscape(page.user ?? "")
            out += """

                        <p class="navbar-text navbar-right">
                            <i class="glyphicon glyphicon-user" aria-hidden="true"></i>
                            <span style="padding-left: 5px;">\(user)  ( <a href="logout">sign out</a> )</span>
                        </p>
                        
                """
        } else {
            out += """

                        <button type="button" class="btn btn-default navbar-btn navbar-right" data-toggle="modal" href="#login-modal">Sign in</button>
                        
                """
        }
        out += """

                </div>
            </nav>

            <!---
            <div class="navbar navbar-inverse navbar-fixed-top">
              <div class="container">
                <div class="navbar-header pull-left">
                  <a class="navbar-brand" href="#">Microservices Fabric BookInfo Demo</a>
                </div>
                <div class="navbar-header pull-right">
                  <button type="button" class="navbar-toggle" data-toggle="collapse" data-target=".navbar-collapse">
                    <span class="icon-bar"></span>
                    <span class="icon-bar"></span>
                    <span class="icon-bar"></span>
                  </button>
                </div>
                <div class="navbar-collapse collapse">

            """
        if page.signedIn {
            out += """

                      <a href="logout"><button type="button" class="btn btn-default navbar-btn pull-right">Sign out</button></a>
                      <p class="navbar-text pull-right">Signed in as \(htmlEscape(page.user ?? ""))</p>

                """
        } else {
            out += """

                      <button type="button" class="btn btn-default navbar-btn pull-right" data-toggle="modal" data-target="#login-modal">Sign in</button>

                """
        }
        out += """

                </div>
              </div>
            </div>
            -->
                
            """
        return out
    }

    static let loginModal = """

        <div id="login-modal" class="modal fade" role="dialog">
          <div class="modal-dialog">
            <div class="modal-content">
              <div class="modal-header">
                <button type="button" class="close" data-dismiss="modal">&times;</button>
                <h4 class="modal-title">Please sign in</h4>
              </div>
              <div class="modal-body">
                <form method="post" action='login' name="login_form">
                  <p><input type="text" class="form-control" name="username" id="username" placeholder="User Name"></p>
                  <p><input type="password" class="form-control" name="passwd" placeholder="Password"></p>
                  <p>
                     <button type="submit" class="btn btn-primary">Sign in</button>
                     <button type="button" class="btn btn-default" data-dismiss="modal">Cancel</button>
                  </p>
                </form>
              </div>
            </div>

          </div>
        </div>

        """

    static let summary = """

        <div class="container-fluid">
          <div class="row">
            <div class="col-md-12">
              <h3 class="text-center text-primary">\(htmlEscape(Product.title))</h3>
              
                <p>Summary: \(Product.descriptionHtml)</p>
              
            </div>
          </div>

          <div class="row">
            <div class="col-md-6">
              
        """

    static func details(_ details: PageModel.Fetched) -> String {
        if details.ok {
            let value = details.value
            func field(_ key: String) -> String { htmlEscape(value[key]?.templateText ?? "") }
            return """

                        <h4 class="text-center text-primary">Book Details</h4>
                        <dl>
                          <dt>Type:</dt>\(field("type"))
                          <dt>Pages:</dt>\(field("pages"))
                          <dt>Publisher:</dt>\(field("publisher"))
                          <dt>Language:</dt>\(field("language"))
                          <dt>ISBN-10:</dt>\(field("ISBN-10"))
                          <dt>ISBN-13:</dt>\(field("ISBN-13"))
                        </dl>
                      
                """
        }
        return failure("details", error: details.value["error"]?.templateText)
    }

    /// The error branch: heading, then the sorry sentence when there is one.
    static func failure(_ what: String, error: String?) -> String {
        var out = """

                    <h4 class="text-center text-primary">Error fetching product \(what)!</h4>
                    
            """
        if let error {
            out += """

                          <p>\(htmlEscape(error))</p>
                        
                """
        }
        return out + "\n      "
    }

    static func reviews(_ page: PageModel) -> String {
        guard page.reviews.ok else { return failure("reviews", error: page.reviews.value["error"]?.templateText) }
        var out = """

                    <h4 class="text-center text-primary">Book Reviews</h4>
                    
            """
        for review in page.reviewList {
            out += """

                          <blockquote>
                            <p>\(htmlEscape(review.text))</p>
                            <small>\(htmlEscape(review.reviewer))</small>
                            
                """
            out += rating(review.rating)
            out += "\n          </blockquote>\n        "
        }
        return out + "\n      "
    }

    /// The text between `<small>` and `</blockquote>`. In the template the block sits inside two
    /// nested conditions, each tag on its own line, so a truthy rating leaves two tag lines (and
    /// their indentation) around what it shows:
    ///
    ///     {% if review.rating: %}              (12 spaces)
    ///       {% if review.rating.stars: %}      (14)
    ///         <font …> … </font>               (16, stars at 20, their tags at 18)
    ///       {% elif review.rating.error: %}
    ///         <p><i>…</i></p>
    ///       {% endif %}
    ///     {% endif %}
    static func rating(_ rating: PageModel.Review.Rating?) -> String {
        guard let rating else { return "" }
        var out = "\n              "
        switch rating {
        case .neither:
            break
        case .error(let message):
            out += "\n                <p><i>\(htmlEscape(message))</i></p>\n              "
        case .stars(let stars, let color):
            out += "\n                <font color=\"\(htmlEscape(color))\">\n                  <!-- full stars: -->\n                  "
            for _ in 0..<max(0, stars) {
                out += "\n                    <span class=\"glyphicon glyphicon-star\"></span>\n                  "
            }
            out += "\n                  <!-- empty stars: -->\n                  "
            for _ in 0..<max(0, 5 - stars) {
                out += "\n                    <span class=\"glyphicon glyphicon-star-empty\"></span>\n                  "
            }
            out += "\n                </font>\n              "
        }
        return out + "\n            "
    }

    static func foot(_ assets: Assets) -> String {
        """

            </div>
          </div>
        </div>


            
        <!-- Latest compiled and minified JavaScript -->
        <script src="\(assets.jquery)"></script>

        <!-- Latest compiled and minified JavaScript -->
        <script src="\(assets.bootstrapJS)"></script>

        <script type="text/javascript">
        $('#login-modal').on('shown.bs.modal', function () {
             $('#username').focus();
        });
        </script>

          </body>
        </html>
        """
    }
}
