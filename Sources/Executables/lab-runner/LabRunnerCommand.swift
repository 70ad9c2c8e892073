import BookinfoKit
import Foundation
import LabRunner

let environment = BookinfoEnvironment()
BookinfoServer.bootstrapLogging(environment)
do {
    try await LabRunnerApp.run(LabRunnerApp.Options.parse(CommandLine.arguments, environment: environment.values))
} catch {
    FileHandle.standardError.write(Data("lab-runner: \(error)\n".utf8))
    exit(1)
}
