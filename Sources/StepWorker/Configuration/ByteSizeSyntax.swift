

/// Sizes in the configuration: integer bytes, or a string `<integer><unit>` with unit
/// `B`, `KiB`, `MiB`, `GiB` (powers of 1024) or `kB`, `MB`, `GB` (powers of 1000).
public enum ByteSizeSyntax {
    public static let help = #"expected a size such as 262144, "256KiB" or "1MiB""#

    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingSpaces
        let digits = trimmed.prefix { ("0"..."9").contains($0) }
        let unit = trimmed.dropFirst(digits.count).trimmingSpaces
        guard !digits.isEmpty, digits.count <= 15, let value = Int(digits) else { return nil }
        let multiplier: Int
        switch unit {
        case "", "B": multiplier = 1
        case "KiB": multiplier = 1 << 10
        case "MiB": multiplier = 1 << 20
        case "GiB": multiplier = 1 << 30
        case "kB", "KB": multiplier = 1000
        case "MB": multiplier = 1_000_000
        case "GB": multiplier = 1_000_000_000
        default: return nil
        }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    /// Renders a size compactly and exactly (`"256KiB"`, or plain bytes).
    public static func render(_ bytes: Int) -> String {
        for (unit, size) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes >= size && bytes % size == 0 {
            return "\"\(bytes / size)\(unit)\""
        }
        return "\(bytes)"
    }
}
