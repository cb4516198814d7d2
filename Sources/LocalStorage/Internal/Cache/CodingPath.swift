/// The coding path of a value being encoded or decoded, as a list that shares its parents, so a
/// nested value costs one small node rather than a copy of its parent's path.
indirect enum CodingPathNode {
    case root
    case key(any CodingKey, parent: CodingPathNode, depth: Int)

    /// The path of the value under `key` in the value at this path.
    func appending(_ key: any CodingKey) -> CodingPathNode {
        .key(key, parent: self, depth: depth + 1)
    }

    /// How many keys lead here from the top-level value.
    var depth: Int {
        switch self {
        case .root: 0
        case .key(_, _, let depth): depth
        }
    }

    /// The keys from the top-level value down to this one.
    var keys: [any CodingKey] {
        var keys: [any CodingKey] = []
        var node = self
        while case .key(let key, let parent, _) = node {
            keys.append(key)
            node = parent
        }
        return keys.reversed()
    }
}

/// The keys the coders make up: array indices and `super`, spelled as JSONEncoder spells them.
struct BinaryCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        intValue = nil
    }

    init(intValue: Int) {
        stringValue = "Index \(intValue)"
        self.intValue = intValue
    }

    static let superKey = BinaryCodingKey(stringValue: "super")
}

/// A coding path as people read it: `items[3].name`, or `(top level)`.
func describeCodingPath(_ keys: [any CodingKey]) -> String {
    guard !keys.isEmpty else { return "(top level)" }
    var text = ""
    for key in keys {
        if let index = key.intValue, key.stringValue == "Index \(index)" {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : "." + key.stringValue
        }
    }
    return text
}
