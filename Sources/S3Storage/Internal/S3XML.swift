#if S3
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One element of an S3 response body: its name, its text, its child elements.
struct XMLElementNode: Sendable {
    var name: String
    var text = ""
    var children: [XMLElementNode] = []

    /// The first child of that name.
    func child(_ name: String) -> XMLElementNode? { children.first { $0.name == name } }
    /// Every child of that name, in order.
    func children(_ name: String) -> [XMLElementNode] { children.filter { $0.name == name } }
    /// The text of the first child of that name.
    func text(_ name: String) -> String? { child(name)?.text }

    /// Parses a whole document; nil if it is not well-formed XML.
    static func parse(_ data: Data) -> XMLElementNode? {
        let builder = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.delegate = builder
        guard parser.parse(), let root = builder.stack.first?.children.first else { return nil }
        return root
    }
}

/// Builds the tree as the parser reports elements (S3's bodies are small: pages of 1,000 keys).
private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack = [XMLElementNode(name: "")]

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        stack.append(XMLElementNode(name: elementName))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        guard stack.count > 1 else { return }
        let node = stack.removeLast()
        stack[stack.count - 1].children.append(node)
    }
}

/// Escapes text for an XML element's content.
func xmlEscaped(_ text: String) -> String {
    var result = ""
    for character in text {
        switch character {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        case "'": result += "&apos;"
        default: result.append(character)
        }
    }
    return result
}
#endif
