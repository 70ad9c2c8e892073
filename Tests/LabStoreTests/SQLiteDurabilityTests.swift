import Foundation
import Testing
@testable import LabStore

/// What survives a restart or a crash of the lab-runner when the store is an SQLite file.
@Suite("SQLite durability")
struct SQLiteDurabilityTests {
    static let childDatabaseVariable = "MESHDOJO_LABSTORE_CRASH_CHILD_DB"
    static let committedMarker = "LABSTORE-COMMITTED "

    @Test("the file is in WAL mode with synchronous=FULL")
    func pragmas() async throws {
        try await TestStores.withSQLiteFile { path in
            let store = try await SQLiteLabStore(path: path)
            let settings = try await store.durabilitySettings()
            await store.close()
            #expect(settings.journalMode == "wal")
            #expect(settings.synchronous == 2)  // FULL
        }
    }

    @Test("a new store on the same file sees everything after close()")
    func reopenAfterClose() async throws {
        try await TestStores.withSQLiteFile { path in
            let first = try await LabStores.open(url: nil, sqlitePath: path)
            try await first.addStudent(Fixture.student(1))
            try await first.startLab(studentID: "s1", labID: "01-routing", at: Fixture.time(1))
            var written: [VerdictRecord] = []
            for i in 0..<25 { written.append(try await first.record(Fixture.verdict("s1", at: Double(i)))) }
            await first.close()

            let second = try await LabStores.open(url: nil, sqlitePath: path)
            #expect(try await second.students() == [Fixture.student(1)])
            #expect(try await second.allProgress().count == 1)
            #expect(try await second.verdicts(studentID: "s1", labID: "01-routing") == written.reversed())
            let next = try await second.record(Fixture.verdict("s1", at: 99))
            #expect(next.id! > written.last!.id!)
            await second.close()
        }
    }

    @Test("a store dropped without close() loses nothing that record() returned")
    func reopenWithoutClose() async throws {
        try await TestStores.withSQLiteFile { path in
            let n = 40
            do {
                let first = try await LabStores.open(url: nil, sqlitePath: path)
                try await first.addStudent(Fixture.student(1))
                for i in 0..<n { _ = try await first.record(Fixture.verdict("s1", at: Double(i))) }
                // no close(): the store is released here, as on a crash-free exit that forgot it
            }
            let second = try await LabStores.open(url: nil, sqlitePath: path)
            #expect(try await second.verdicts(studentID: "s1", labID: "01-routing").count == n)
            await second.close()
        }
    }

    #if os(Linux)
    /// Spawns this test binary again, running only ``childWritesVerdictsUntilKilled()``, lets it commit
    /// verdicts as fast as it can, SIGKILLs it mid-stream, and checks that every verdict it reported as
    /// committed is in the file.
    @Test("a writer killed with SIGKILL loses no committed verdict", .timeLimit(.minutes(2)))
    func killedWriterLosesNoCommittedVerdict() async throws {
        try await TestStores.withSQLiteFile { path in
            let setup = try await LabStores.open(url: nil, sqlitePath: path)
            try await setup.addStudent(Fixture.student(1))
            await setup.close()

            let child = Process()
            child.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            child.arguments = ["--testing-library", "swift-testing", "--filter", "childWritesVerdictsUntilKilled"]
            child.environment = ProcessInfo.processInfo.environment.merging([Self.childDatabaseVariable: path]) { $1 }
            let pipe = Pipe()
            child.standardOutput = pipe
            child.standardError = FileHandle.nullDevice
            try child.run()
            let (output, killed) = await Self.readUntilKilled(child, pipe: pipe, afterCommits: 300)
            child.waitUntilExit()

            let committed = output.split(separator: "\n").filter { $0.hasPrefix(Self.committedMarker) }
                .compactMap { Int64($0.dropFirst(Self.committedMarker.count)) }
            #expect(killed, "child ended before it was killed:\n\(output.suffix(2000))")
            #expect(child.terminationReason == .uncaughtSignal)
            #expect(committed.count >= 300)

            let store = try await LabStores.open(url: nil, sqlitePath: path)
            let stored = Set(try await store.verdicts(studentID: "s1", labID: "01-routing").compactMap(\.id))
            await store.close()
            let lost = Set(committed).subtracting(stored)
            #expect(lost.isEmpty, "committed but lost: \(lost.sorted())")
            // At most the one in flight at the kill is stored without having been reported.
            #expect(stored.count - committed.count <= 1)
        }
    }

    /// Reads the child's stdout on a plain thread, SIGKILLs it after `afterCommits` commit lines (or
    /// after 60 s), and returns everything it wrote.
    static func readUntilKilled(_ child: Process, pipe: Pipe, afterCommits target: Int) async -> (String, Bool) {
        let pid = child.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) { kill(pid, SIGKILL) }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var buffer = Data()
                var killed = false
                while true {
                    let chunk = pipe.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    buffer.append(chunk)
                    if !killed, String(decoding: buffer, as: UTF8.self).components(separatedBy: committedMarker).count > target {
                        kill(pid, SIGKILL)
                        killed = true
                    }
                }
                continuation.resume(returning: (String(decoding: buffer, as: UTF8.self), killed))
            }
        }
    }
    #endif

    /// Not a test of its own: the child process of ``killedWriterLosesNoCommittedVerdict()``. It records
    /// verdicts forever and prints each id once `record` has returned.
    @Test("(child process of the SIGKILL test)",
          .enabled(if: ProcessInfo.processInfo.environment[childDatabaseVariable] != nil))
    func childWritesVerdictsUntilKilled() async throws {
        let path = try #require(ProcessInfo.processInfo.environment[Self.childDatabaseVariable])
        let store = try await SQLiteLabStore(path: path)
        for i in 0... {
            let v = try await store.record(Fixture.verdict("s1", at: Double(i)))
            FileHandle.standardOutput.write(Data("\(Self.committedMarker)\(v.id!)\n".utf8))
        }
    }
}
