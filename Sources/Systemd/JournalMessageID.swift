/// `MESSAGE_ID`s of the entries stepworker logs, for `journalctl MESSAGE_ID=…` and catalogs.
///
/// A message id is a 128-bit id written as 32 lowercase hex digits (`journalctl --new-id128`).
/// Put one in the metadata under `JournalMessageID.metadataKey`; the journal handler sends it
/// as the entry's `MESSAGE_ID` field (the text handler prints it like any other key).
public enum JournalMessageID {
    /// The metadata key the journal handler sends as `MESSAGE_ID`.
    public static let metadataKey = "MESSAGE_ID"

    /// A task's outcome (`TaskLedger`'s "Task finished": succeeded, failed, gone), logged once per task with
    /// `STEPWORKER_ACTIVITY`, `STEPWORKER_TASK_ID`, `STEPWORKER_OUTCOME`, `STEPWORKER_ERROR`, `STEPWORKER_DURATION_MS`.
    public static let taskOutcome = "74cec27408494d3c89713c00392eb7bd"
}
