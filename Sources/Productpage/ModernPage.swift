/// The product page in the current (Istio ≥ 1.23) Tailwind markup, `PRODUCTPAGE_UI=modern`
/// (spec §2.6.2). Markers match the current page; the reviews container's unclosed quote is fixed.
enum ModernPage {
    static func render(_ page: PageModel) -> String {
        var out = """
            <meta charset="utf-8">
            <meta http-equiv="X-UA-Compatible" content="IE=edge">
            <meta name="viewport" content="width=device-width, initial-scale=1.0">
            <title>Simple Bookstore App</title>
            <script src="static/tailwind/tailwind.css"></script>
            <script type="text/javascript">
              window.addEventListener("DOMContentLoaded", () => {
                const dialog = document.querySelector("dialog");
                const showButton = document.querySelector("#sign-in-button");
                const closeButton = document.querySelector("#close-dialog");
                if (showButton) { showButton.addEventListener("click", () => dialog.showModal()); }
                if (closeButton) { closeButton.addEventListener("click", () => dialog.close()); }
              })
            </script>
            <nav class="bg-gray-800">
              <div class="container mx-auto px-4 sm:px-6 lg:px-8">
                <div class="relative flex h-16 items-center justify-between">
                  <a href="#" class="text-white px-3 py-2 text-lg font-medium" aria-current="page">BookInfo Sample</a>
                  <div class="absolute inset-y-0 right-0 flex items-center pr-2 sm:static sm:inset-auto sm:ml-6 sm:pr-0">

            """
        if page.signedIn {
            out += """
                        <a href="#" class="group block flex-shrink-0">
                          <div class="flex items-center">
                            <div><img class="inline-block h-9 w-9 rounded-full bg-blue-50" src="/static/img/izzy.png" alt=""></div>
                            <div class="ml-4">
                              <p class="text-base font-medium text-gray-50">\(htmlEscape(page.user ?? ""))</p>
                              <a href="logout" class="text-xs font-medium text-gray-400 hover:text-gray-300">Sign out</a>
                            </div>
                          </div>
                        </a>

                """
        } else {
            out += """
                        <button type="button" id="sign-in-button" class="rounded-md bg-blue-600 px-3.5 py-2.5 text-sm font-semibold text-white shadow-sm hover:bg-blue-500">Sign in</button>

                """
        }
        out += """
                  </div>
                </div>
              </div>
            </nav>
            <dialog id="dialog" class="w-full sm:w-2/3 lg:w-1/3 border rounded-md shadow-xl">
              <div class="flex min-h-full flex-col justify-center px-6 py-12 lg:px-8">
                <div class="absolute right-0 top-0 hidden pr-4 pt-4 sm:block">
                  <button id="close-dialog" type="button" class="rounded-md bg-white text-gray-400 hover:text-gray-500"><span class="sr-only">Close</span>&times;</button>
                </div>
                <h2 class="mt-5 text-center text-2xl font-bold leading-9 tracking-tight text-gray-900">Sign in to BookInfo</h2>
                <form class="space-y-6" method="post" action='login' name="login_form">
                  <div><label for="username" class="block text-sm font-medium leading-6 text-gray-900">Username</label>
                    <input id="username" name="username" required class="block w-full px-3 rounded-md border-0 py-1.5 text-gray-900 shadow-sm ring-1 ring-inset ring-gray-300"></div>
                  <div><label for="password" class="block text-sm font-medium leading-6 text-gray-900">Password</label>
                    <input id="password" name="passwd" type="password" required class="block w-full px-3 rounded-md border-0 py-1.5 text-gray-900 shadow-sm ring-1 ring-inset ring-gray-300"></div>
                  <div><button type="submit" class="flex w-full justify-center rounded-md bg-blue-600 px-3 py-1.5 text-sm font-semibold leading-6 text-white shadow-sm hover:bg-blue-500">Sign in</button></div>
                </form>
              </div>
            </dialog>
            <div class="container mt-8 mx-auto px-4 sm:px-6 lg:px-8">
              <h1 class="text-5xl font-bold tracking-tight text-blue-900">\(htmlEscape(Product.title))</h1>
              <div class="mt-6 max-w-4xl">
                <p class="mt-6 text-xl leading-8 text-gray-600">\(Product.descriptionHtml)</p>
                <div class="mt-6">
                  <a href="https://istio.io" target="_blank" class="text-sm font-semibold leading-6 text-blue-600 hover:text-blue-700">Learn more about Istio <span aria-hidden="true">→</span></a>
                </div>
              </div>
            </div>
            <div class="container mt-8 mx-auto px-4 sm:px-6 lg:px-8">
              <div class="mt-4 py-10">
                <div class="max-w-2xl">
                  <div class="flow-root">

            """
        out += details(page.details)
        out += """
                  </div>
                </div>
              </div>
            </div>
            <div class="bg-blue-600/5 py-12 mx-auto">
              <div class="container mx-auto px-4 sm:px-6 lg:px-8">
                <div class="max-w-2xl">

            """
        out += reviews(page)
        out += """
                </div>
              </div>
            </div>

            """
        return out
    }

    static func details(_ details: PageModel.Fetched) -> String {
        guard details.ok else { return failure("details", error: details.value["error"]?.templateText) }
        let value = details.value
        func cell(_ key: String) -> String { htmlEscape(value[key]?.templateText ?? "") }
        return """
                      <h4 class="text-3xl font-semibold">Book Details</h4>
                      <table class="min-w-full divide-y divide-gray-300">
                        <thead><tr><th scope="col">ISBN-10</th><th scope="col">Publisher</th><th scope="col">Pages</th><th scope="col">Type</th><th scope="col">Language</th></tr></thead>
                        <tbody class="divide-y divide-gray-200 bg-white">
                          <tr><td>\(cell("ISBN-10"))</td><td>\(cell("publisher"))</td><td>\(cell("pages"))</td><td>\(cell("type"))</td><td>\(cell("language"))</td></tr>
                        </tbody>
                      </table>

            """
    }

    static func failure(_ what: String, error: String?) -> String {
        var out = "          <p class=\"text-2xl text-red-500\">Error fetching product \(what)</p>\n"
        if let error { out += "          <p class=\"text-lg text-gray-600\">\(htmlEscape(error))</p>\n" }
        return out
    }

    static let fullStar =
        #"<svg id="glyphicon glyphicon-star" class="h-5 w-5 flex-none" viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><path fill-rule="evenodd" d="M10.868 2.884c-.321-.772-1.415-.772-1.736 0l-1.83 4.401-4.753.381c-.833.067-1.171 1.107-.536 1.651l3.62 3.102-1.106 4.637c-.194.813.691 1.456 1.405 1.02L10 15.591l4.069 2.485c.713.436 1.598-.207 1.404-1.02l-1.106-4.637 3.62-3.102c.635-.544.297-1.584-.536-1.65l-4.752-.382-1.831-4.401z" clip-rule="evenodd" /></svg>"#
    static let emptyStar =
        #"<svg xmlns="http://www.w3.org/2000/svg" fill="none" viewBox="0 0 24 24" stroke-width="1.5" stroke="currentColor" class="h-5 w-5 flex-none"><path stroke-linecap="round" stroke-linejoin="round" d="M11.48 3.499a.562.562 0 0 1 1.04 0l2.125 5.111a.563.563 0 0 0 .475.345l5.518.442c.499.04.701.663.321.988l-4.204 3.602a.563.563 0 0 0-.182.557l1.285 5.385a.562.562 0 0 1-.84.61l-4.725-2.885a.562.562 0 0 0-.586 0L6.982 20.54a.562.562 0 0 1-.84-.61l1.285-5.386a.562.562 0 0 0-.182-.557l-4.204-3.602a.562.562 0 0 1 .321-.988l5.518-.442a.563.563 0 0 0 .475-.345L11.48 3.5Z" /></svg>"#

    static func reviews(_ page: PageModel) -> String {
        guard page.reviews.ok else { return failure("reviews", error: page.reviews.value["error"]?.templateText) }
        let podName = page.reviews.value["podname"]?.templateText ?? ""
        let clusterName = page.reviews.value["clustername"]?.templateText ?? "null"
        var out = "      <h4 class=\"text-3xl font-semibold\">Book Reviews</h4>\n      <div class=\"flex flex-col md:flex-row\">\n"
        for review in page.reviewList {
            out += "        <section class=\"px-6 py-12 sm:py-8 lg:px-8\">\n          <div class=\"mx-auto max-w-2xl\">\n"
            switch review.rating {
            case .stars(let stars, let color):
                out += "            <div class=\"flex gap-x-1 text-\(htmlEscape(color))-500\">\n"
                for _ in 0..<max(0, stars) { out += "              \(fullStar)\n" }
                for _ in 0..<max(0, 5 - stars) { out += "              \(emptyStar)\n" }
                out += "            </div>\n"
            case .error(let message):
                out += "            <p class=\"text-red-500\">\(htmlEscape(message))</p>\n"
            case .neither, nil:
                break
            }
            out += """
                            <blockquote class="mt-10 text-xl font-semibold leading-8 tracking-tight text-gray-900 sm:text-2xl sm:leading-9">
                              <p>"\(htmlEscape(review.text))"</p>
                            </blockquote>
                            <div class="mt-4 flex items-center gap-x-6">
                              <img class="h-16 w-16 rounded-full bg-gray-50" src="/static/img/izzy.png" alt="Izzy">
                              <div class="text-sm leading-6">
                                <div class="font-semibold text-gray-900">\(htmlEscape(review.reviewer))</div>
                                <div class="mt-0.5 text-gray-600 font-mono">Reviews served by:
                                  \(htmlEscape(podName))

                """
            if clusterName != "null" {
                out += "                  on cluster <div>\(htmlEscape(clusterName))</div>\n"
            }
            out += "                </div>\n              </div>\n            </div>\n          </div>\n        </section>\n"
        }
        return out + "      </div>\n"
    }
}
