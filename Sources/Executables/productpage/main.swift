import BookinfoKit
import Hummingbird
import Productpage

let environment = BookinfoEnvironment()
BookinfoServer.bootstrapLogging(environment)
let port = BookinfoServer.port(arguments: CommandLine.arguments, usage: "productpage <port>")
let metrics = MetricsRegistry()
let app = BookinfoServer.application(
    name: "productpage",
    handler: ProductpageService(configuration: ProductpageConfiguration(environment), metrics: metrics),
    metrics: metrics, host: BookinfoServer.listenHost(environment), port: port)
try await app.runService()
