import Logging

/// What both log handlers need from a swift-log event: the metadata of the handler, of its
/// metadata provider and of the call merged (the call wins), with the event's error added.
enum LogEventFields {
    static func metadata(
        of event: LogEvent,
        handler: Logger.Metadata,
        provider: Logger.MetadataProvider?
    ) -> Logger.Metadata {
        var merged = handler
        if let provided = provider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let explicit = event.metadata {
            merged.merge(explicit) { _, new in new }
        }
        if let error = event.error {
            merged["error"] = .string(String(describing: error))
        }
        return merged
    }

    /// A metadata value as text: strings as they are, everything else as its description.
    static func text(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): string
        default: value.description
        }
    }
}
