import Foundation

/// The behaviour every ``LabStore`` implementation shares (checked by `LabStoreContractTests`).
///
/// - `migrate()` is idempotent and versioned: each migration runs once, in its own transaction, and is
///   recorded in `schema_migrations`. ``LabStores/open(url:sqlitePath:logger:)`` already calls it.
/// - `addStudent(_:)` throws ``LabStoreError/conflict(_:)`` when the id, name, namespace or token hash
///   is already taken; nothing is written then.
/// - `startLab`, `record` throw ``LabStoreError/notFound(_:)`` for an unknown student; `setStep` and
///   `completeLab` throw it when the lab was never started.
/// - `startLab` upserts: starting a lab again restarts it (new `startedAt`, `completedAt` and
///   `currentStep` reset to nil). `completeLab` keeps `currentStep`.
/// - `record(_:)` ignores the verdict's `id`, assigns a new one and returns the stored record; once it
///   returns, the verdict is committed (SQLite: WAL + `synchronous=FULL`).
/// - Orders: `students()` by name; `progress(studentID:)` by lab id; `allProgress()` by student id, then
///   lab id; `verdicts(studentID:labID:)` newest first (`createdAt` descending, then id descending);
///   `latestVerdicts()` holds the newest verdict per (student, lab, check), ordered by student id, lab id,
///   check id. Text orders are Swift `String` orders, identical on every backend.
/// - Dates are stored as `Double` seconds since 1970 and come back exactly as
///   ``LabStoreContract/normalized(_:)`` returns them (sub-microsecond rounding at most).
/// - After `close()`, every call throws ``LabStoreError/closed``.
public enum LabStoreContract {
    /// The value a stored `Date` reads back as on every backend.
    public static func normalized(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970)
    }
}
