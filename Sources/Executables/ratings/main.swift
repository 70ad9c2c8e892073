import BookinfoKit
import Foundation
import Hummingbird
import Ratings

let environment = BookinfoEnvironment()
BookinfoServer.bootstrapLogging(environment)
guard let port = BookinfoServer.port(arguments: CommandLine.arguments, usage: "ratings <port>") else { exit(2) }
let mode: RatingsMode
do {
    mode = try RatingsMode.from(environment)
} catch {
    FileHandle.standardError.write(Data("ratings: \(error)\n".utf8))
    exit(1)
}
let app = BookinfoServer.application(
    name: "ratings", handler: RatingsService(mode: mode), metrics: MetricsRegistry(),
    host: BookinfoServer.listenHost(environment), port: port)
try await app.runService()
