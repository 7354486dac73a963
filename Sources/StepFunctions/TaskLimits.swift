/// The service's limits on what a worker sends, and the truncation that keeps a value inside them.
///
/// Step Functions counts `error` and `cause` in characters and `output`/`input` in UTF-8 bytes.
/// Truncation never splits a character: the result is always valid UTF-8.
public enum TaskLimits {
    /// `SendTaskSuccess.output` and a task's input, in UTF-8 bytes.
    public static let maxPayloadBytes = 262_144
    /// `SendTaskFailure.error`, in characters.
    public static let maxErrorCharacters = 256
    /// `SendTaskFailure.cause`, in characters.
    public static let maxCauseCharacters = 32_768
    /// `GetActivityTask.workerName`, in characters (1...80).
    public static let maxWorkerNameCharacters = 80
    /// A task token, in characters.
    public static let maxTaskTokenCharacters = 2_048

    /// The first `limit` characters (unicode scalars, as the service counts them) of `text`.
    public static func truncating(_ text: String, toCharacters limit: Int) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > limit else { return text }
        let end = scalars.index(scalars.startIndex, offsetBy: max(0, limit))
        return String(scalars[scalars.startIndex..<end])
    }

    /// The longest prefix of `text` that is at most `limit` UTF-8 bytes and ends on a scalar boundary.
    public static func truncating(_ text: String, toUTF8Bytes limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var bytes = 0
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let width = UTF8.width(scalar)
            if bytes + width > limit { break }
            bytes += width
            result.append(scalar)
        }
        return String(result)
    }
}
