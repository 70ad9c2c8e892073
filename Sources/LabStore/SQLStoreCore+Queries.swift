import Foundation
import SQLKit

/// The ``LabStore`` operations in SQL; ``SQLiteLabStore`` and ``PostgresLabStore`` forward here.
extension SQLStoreCore {
    static let studentColumns = ["id", "name", "namespace", "token_hash", "created_at"]
    static let progressColumns = ["student_id", "lab_id", "started_at", "completed_at", "current_step"]
    static let verdictColumns = [
        "id", "student_id", "lab_id", "check_id", "passed", "summary_en", "summary_ja", "evidence",
        "requests", "seconds", "created_at",
    ]

    func addStudent(_ s: Student) async throws {
        try await transaction(retry: false) { db in
            let inserted = try await db.insert(into: "students").columns(Self.studentColumns)
                .values(SQLBind(s.id), SQLBind(s.name), SQLBind(s.namespace), SQLBind(s.tokenHash),
                        SQLBind(s.createdAt.timeIntervalSince1970))
                .ignoringConflicts()
                .returning("id")
                .first()
            guard inserted == nil else { return }
            let clash = try await db.select().columns(Self.studentColumns).from("students")
                .where("id", .equal, SQLBind(s.id)).orWhere("name", .equal, SQLBind(s.name))
                .orWhere("namespace", .equal, SQLBind(s.namespace)).orWhere("token_hash", .equal, SQLBind(s.tokenHash))
                .first().map(Self.student(from:))
            throw LabStoreError.conflict(
                clash.map { MemoryLabStore.describeConflict(new: s, existing: $0) } ?? "student \(s.id) already exists")
        }
    }

    func student(where column: String, is value: String) async throws -> Student? {
        try await withDatabase(retry: true) { db in
            try await db.select().columns(Self.studentColumns).from("students")
                .where(SQLIdentifier(column), .equal, SQLBind(value)).first().map(Self.student(from:))
        }
    }

    func students() async throws -> [Student] {
        try await withDatabase(retry: true) { db in
            try await db.select().columns(Self.studentColumns).from("students").all().map(Self.student(from:))
        }.sorted { $0.name < $1.name }
    }

    func removeStudent(id: String) async throws {
        try await transaction(retry: true) { db in
            try await Self.requireStudent(id, in: db)
            try await db.delete(from: "verdicts").where("student_id", .equal, SQLBind(id)).run()
            try await db.delete(from: "lab_progress").where("student_id", .equal, SQLBind(id)).run()
            try await db.delete(from: "students").where("id", .equal, SQLBind(id)).run()
        }
    }

    func replaceToken(studentID: String, tokenHash: String) async throws {
        try await transaction(retry: true) { db in
            try await Self.requireStudent(studentID, in: db)
            try await db.update("students").set("token_hash", to: SQLBind(tokenHash)).where("id", .equal, SQLBind(studentID)).run()
        }
    }

    func startLab(studentID: String, labID: String, at: Date) async throws {
        try await transaction(retry: true) { db in
            try await Self.requireStudent(studentID, in: db)
            try await db.insert(into: "lab_progress").columns(Self.progressColumns)
                .values(SQLBind(studentID), SQLBind(labID), SQLBind(at.timeIntervalSince1970), SQLLiteral.null, SQLLiteral.null)
                .onConflict(with: ["student_id", "lab_id"]) {
                    $0.set(excludedValueOf: "started_at")
                        .set("completed_at", to: SQLLiteral.null)
                        .set("current_step", to: SQLLiteral.null)
                }
                .run()
        }
    }

    func setStep(studentID: String, labID: String, step: String?) async throws {
        try await updateProgress(studentID: studentID, labID: labID) {
            $0.set("current_step", to: step.map { SQLBind($0) as any SQLExpression } ?? SQLLiteral.null)
        }
    }

    func completeLab(studentID: String, labID: String, at: Date) async throws {
        try await updateProgress(studentID: studentID, labID: labID) {
            $0.set("completed_at", to: SQLBind(at.timeIntervalSince1970))
        }
    }

    func progress(studentID: String?) async throws -> [LabProgress] {
        try await withDatabase(retry: true) { db in
            let query = db.select().columns(Self.progressColumns).from("lab_progress")
            if let studentID { query.where("student_id", .equal, SQLBind(studentID)) }
            return try await query.all().map(Self.progress(from:))
        }.sorted { ($0.studentID, $0.labID) < ($1.studentID, $1.labID) }
    }

    func record(_ v: VerdictRecord) async throws -> VerdictRecord {
        try await transaction(retry: false) { db in
            try await Self.requireStudent(v.studentID, in: db)
            let row = try await db.insert(into: "verdicts").columns(Array(Self.verdictColumns.dropFirst()))
                .values(SQLBind(v.studentID), SQLBind(v.labID), SQLBind(v.checkID), SQLBind(v.passed),
                        SQLBind(v.summaryEn), SQLBind(v.summaryJa), SQLBind(v.evidence), SQLBind(Int64(v.requests)),
                        SQLBind(v.seconds), SQLBind(v.createdAt.timeIntervalSince1970))
                .returning(Self.verdictColumns.map { SQLIdentifier($0) })
                .first()
            guard let row else { throw LabStoreError.notFound("inserted verdict row") }
            return try Self.verdict(from: row)
        }
    }

    func verdicts(studentID: String, labID: String) async throws -> [VerdictRecord] {
        try await withDatabase(retry: true) { db in
            try await db.select().columns(Self.verdictColumns).from("verdicts")
                .where("student_id", .equal, SQLBind(studentID)).where("lab_id", .equal, SQLBind(labID))
                .orderBy("created_at", .descending).orderBy("id", .descending)
                .all().map(Self.verdict(from:))
        }
    }

    /// The newest verdict per (student, lab, check): a window function, supported by PostgreSQL and by
    /// SQLite since 3.25.
    func latestVerdicts() async throws -> [VerdictRecord] {
        let columns = Self.verdictColumns.joined(separator: ", ")
        let sql = """
            SELECT \(columns) FROM (
                SELECT \(columns), ROW_NUMBER() OVER (
                    PARTITION BY student_id, lab_id, check_id ORDER BY created_at DESC, id DESC) AS newest
                FROM verdicts) AS ranked
            WHERE newest = 1
            """
        return try await withDatabase(retry: true) { db in
            try await db.raw("\(unsafeRaw: sql)").all().map(Self.verdict(from:))
        }.sorted { ($0.studentID, $0.labID, $0.checkID) < ($1.studentID, $1.labID, $1.checkID) }
    }

    // MARK: Helpers

    private func updateProgress(
        studentID: String, labID: String, _ change: (SQLUpdateBuilder) -> SQLUpdateBuilder
    ) async throws {
        try await transaction(retry: true) { db in
            let updated = try await change(db.update("lab_progress"))
                .where("student_id", .equal, SQLBind(studentID)).where("lab_id", .equal, SQLBind(labID))
                .returning("student_id")
                .first()
            if updated == nil { throw LabStoreError.notFound("progress of student \(studentID) in lab \(labID)") }
        }
    }

    private static func requireStudent(_ id: String, in db: any SQLDatabase) async throws {
        let row = try await db.select().column("id").from("students").where("id", .equal, SQLBind(id)).first()
        if row == nil { throw LabStoreError.notFound("student \(id)") }
    }

    static func date(_ row: any SQLRow, _ column: String) throws -> Date {
        Date(timeIntervalSince1970: try row.decode(column: column, as: Double.self))
    }

    static func optionalDate(_ row: any SQLRow, _ column: String) throws -> Date? {
        try row.decodeNil(column: column) ? nil : try date(row, column)
    }

    static func student(from row: any SQLRow) throws -> Student {
        Student(
            id: try row.decode(column: "id", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            namespace: try row.decode(column: "namespace", as: String.self),
            tokenHash: try row.decode(column: "token_hash", as: String.self),
            createdAt: try date(row, "created_at"))
    }

    static func progress(from row: any SQLRow) throws -> LabProgress {
        LabProgress(
            studentID: try row.decode(column: "student_id", as: String.self),
            labID: try row.decode(column: "lab_id", as: String.self),
            startedAt: try date(row, "started_at"),
            completedAt: try optionalDate(row, "completed_at"),
            currentStep: try row.decodeNil(column: "current_step") ? nil : try row.decode(column: "current_step", as: String.self))
    }

    static func verdict(from row: any SQLRow) throws -> VerdictRecord {
        VerdictRecord(
            id: try row.decode(column: "id", as: Int64.self),
            studentID: try row.decode(column: "student_id", as: String.self),
            labID: try row.decode(column: "lab_id", as: String.self),
            checkID: try row.decode(column: "check_id", as: String.self),
            passed: try row.decode(column: "passed", as: Bool.self),
            summaryEn: try row.decode(column: "summary_en", as: String.self),
            summaryJa: try row.decode(column: "summary_ja", as: String.self),
            evidence: try row.decode(column: "evidence", as: String.self),
            requests: Int(try row.decode(column: "requests", as: Int64.self)),
            seconds: try row.decode(column: "seconds", as: Double.self),
            createdAt: try date(row, "created_at"))
    }
}
