import Foundation
import Testing
@testable import LabStore

/// One contract, every implementation: memory, SQLite (file) and PostgreSQL (real server).
@Suite("LabStore contract")
struct LabStoreContractTests {
    @Test("migrate is idempotent and records each version once", arguments: StoreKind.allCases)
    func migrateTwice(kind: StoreKind) async throws {
        try await TestStores.with(kind) { store in
            try await store.addStudent(Fixture.student(1))
            try await store.migrate()
            try await store.migrate()
            #expect(try await store.students().map(\.id) == ["s1"])
            if let core = (store as? SQLiteLabStore)?.core ?? (store as? PostgresLabStore)?.core {
                #expect(try await core.appliedMigrations() == SQLStoreCore.migrations.map(\.version))
            }
        }
    }

    @Test("students are found by id, token hash and name, listed by name", arguments: StoreKind.allCases)
    func studentLookups(kind: StoreKind) async throws {
        try await TestStores.with(kind) { store in
            let now = Date()  // sub-second, to check the date round trip
            let bob = Student(id: "b", name: "Bob", namespace: "student-bob", tokenHash: "bb", createdAt: now)
            let alice = Student(id: "a", name: "Alice", namespace: "student-alice", tokenHash: "aa", createdAt: Fixture.time(5))
            try await store.addStudent(bob)
            try await store.addStudent(alice)
            var stored = bob
            stored.createdAt = LabStoreContract.normalized(now)
            #expect(try await store.student(id: "b") == stored)
            #expect(abs(try #require(try await store.student(id: "b")).createdAt.timeIntervalSince(now)) < 1e-6)
            #expect(try await store.student(tokenHash: "aa") == alice)
            #expect(try await store.student(name: "Alice") == alice)
            #expect(try await store.student(id: "zz") == nil)
            #expect(try await store.student(tokenHash: "zz") == nil)
            #expect(try await store.student(name: "alice") == nil)
            #expect(try await store.students().map(\.name) == ["Alice", "Bob"])
        }
    }

    @Test("a taken id, name, namespace or token hash is a conflict and writes nothing", arguments: StoreKind.allCases)
    func studentConflicts(kind: StoreKind) async throws {
        try await TestStores.with(kind) { store in
            let first = Fixture.student(1)
            try await store.addStudent(first)
            var clashes: [Student] = []
            var s = Fixture.student(2); s.name = first.name; clashes.append(s)
            s = Fixture.student(3); s.namespace = first.namespace; clashes.append(s)
            s = Fixture.student(4); s.id = first.id; clashes.append(s)
            s = Fixture.student(5); s.tokenHash = first.tokenHash; clashes.append(s)
            for clash in clashes {
                await #expect(throws: LabStoreError.self) { try await store.addStudent(clash) }
                do {
                    try await store.addStudent(clash)
                } catch let error as LabStoreError {
                    guard case .conflict = error else { Issue.record("expected conflict, got \(error)"); continue }
                }
            }
            #expect(try await store.students() == [first])
            try await store.addStudent(Fixture.student(6))  // the store still works after conflicts
            #expect(try await store.students().count == 2)
        }
    }

    @Test("progress: start, step, complete, restart, and not-found cases", arguments: StoreKind.allCases)
    func progressLifecycle(kind: StoreKind) async throws {
        try await TestStores.with(kind) { store in
            try await store.addStudent(Fixture.student(1))
            try await store.addStudent(Fixture.student(2))
            try await store.startLab(studentID: "s1", labID: "02-faults", at: Fixture.time(10))
            try await store.startLab(studentID: "s1", labID: "01-routing", at: Fixture.time(1))
            try await store.setStep(studentID: "s1", labID: "01-routing", step: "03-header-match")
            try await store.completeLab(studentID: "s1", labID: "01-routing", at: Fixture.time(100))
            try await store.startLab(studentID: "s2", labID: "01-routing", at: Fixture.time(2))

            let done = LabProgress(studentID: "s1", labID: "01-routing", startedAt: Fixture.time(1),
                                   completedAt: Fixture.time(100), currentStep: "03-header-match")
            let faults = LabProgress(studentID: "s1", labID: "02-faults", startedAt: Fixture.time(10))
            let other = LabProgress(studentID: "s2", labID: "01-routing", startedAt: Fixture.time(2))
            #expect(try await store.progress(studentID: "s1") == [done, faults])
            #expect(try await store.allProgress() == [done, faults, other])
            #expect(try await store.progress(studentID: "nobody") == [])

            try await store.setStep(studentID: "s1", labID: "02-faults", step: "01-intro")
            try await store.setStep(studentID: "s1", labID: "02-faults", step: nil)
            #expect(try await store.progress(studentID: "s1")[1].currentStep == nil)

            // Restarting resets completion and step.
            try await store.startLab(studentID: "s1", labID: "01-routing", at: Fixture.time(200))
            #expect(try await store.progress(studentID: "s1")[0]
                    == LabProgress(studentID: "s1", labID: "01-routing", startedAt: Fixture.time(200)))

            await #expect(throws: LabStoreError.notFound("student ghost")) {
                try await store.startLab(studentID: "ghost", labID: "01-routing", at: Fixture.time(0))
            }
            await #expect(throws: LabStoreError.self) {
                try await store.setStep(studentID: "s2", labID: "09-never", step: "x")
            }
            await #expect(throws: LabStoreError.self) {
                try await store.completeLab(studentID: "s2", labID: "09-never", at: Fixture.time(0))
            }
            #expect(try await store.allProgress().count == 3)
        }
    }

    @Test("record assigns increasing ids, round-trips every field, lists newest first", arguments: StoreKind.allCases)
    func recordAndList(kind: StoreKind) async throws {
        try await TestStores.with(kind) { store in
            try await store.addStudent(Fixture.student(1))
            var input = Fixture.verdict("s1", passed: false, at: 30)
            input.id = 999  // ignored
            let a = try await store.record(input)
            let b = try await store.record(Fixture.verdict("s1", at: 10))          // older, recorded later
            let c = try await store.record(Fixture.verdict("s1", check: "other", at: 30))  // same time as a
            _ = try await store.record(Fixture.verdict("s1", lab: "02-faults", at: 50))
            let ids = [a, b, c].map { $0.id ?? -1 }
            #expect(ids[0] > 0 && ids[0] < ids[1] && ids[1] < ids[2])
            var expected = input
            expected.id = a.id
            #expect(a == expected)
            #expect(try await store.verdicts(studentID: "s1", labID: "01-routing") == [c, a, b])
            #expect(try await store.verdicts(studentID: "s1", labID: "nope") == [])
            await #expect(throws: LabStoreError.notFound("student ghost")) {
                try await store.record(Fixture.verdict("ghost", at: 0))
            }
        }
    }

    @Test("latestVerdicts holds the newest verdict per student, lab and check", arguments: StoreKind.allCases)
    func latestPerCheck(kind: StoreKind) async throws {
        try await TestStores.with(kind) { store in
            try await store.addStudent(Fixture.student(1))
            try await store.addStudent(Fixture.student(2))
            _ = try await store.record(Fixture.verdict("s1", check: "a", passed: false, at: 1))
            let s1a = try await store.record(Fixture.verdict("s1", check: "a", passed: true, at: 5))
            _ = try await store.record(Fixture.verdict("s1", check: "a", passed: false, at: 3))   // late arrival, older
            _ = try await store.record(Fixture.verdict("s1", check: "b", passed: true, at: 7))
            let s1b = try await store.record(Fixture.verdict("s1", check: "b", passed: false, at: 7)) // tie: higher id wins
            let s1f = try await store.record(Fixture.verdict("s1", lab: "02-faults", check: "a", at: 2))
            let s2a = try await store.record(Fixture.verdict("s2", check: "a", passed: false, at: 9))
            #expect(try await store.latestVerdicts() == [s1a, s1b, s1f, s2a])
        }
    }

    @Test("concurrent writers are serialised and all land", arguments: StoreKind.allCases)
    func concurrentRecords(kind: StoreKind) async throws {
        try await TestStores.with(kind) { store in
            for n in 1...5 { try await store.addStudent(Fixture.student(n)) }
            let recorded = try await withThrowingTaskGroup(of: VerdictRecord.self) { group in
                for i in 0..<60 {
                    group.addTask {
                        let student = "s\(i % 5 + 1)"
                        if i % 7 == 0 { try await store.startLab(studentID: student, labID: "01-routing", at: Fixture.time(Double(i))) }
                        return try await store.record(Fixture.verdict(student, check: "c\(i % 3)", at: Double(i)))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(recorded.compactMap(\.id)).count == 60)
            var total = 0
            for n in 1...5 { total += try await store.verdicts(studentID: "s\(n)", labID: "01-routing").count }
            #expect(total == 60)
            #expect(try await store.latestVerdicts().count == 15)
        }
    }

    @Test("calls after close throw closed", arguments: StoreKind.allCases)
    func closedStore(kind: StoreKind) async throws {
        try await TestStores.with(kind) { store in
            await store.close()
            await #expect(throws: LabStoreError.closed) { try await store.students() }
            await store.close()  // twice is fine
        }
    }
}
