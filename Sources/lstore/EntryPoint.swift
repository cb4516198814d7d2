// lstore: the LocalStorage command-line tool. Its dependency (argument parsing) sits behind the
// `CLI` trait, so that packages using only the library fetch nothing; without the trait this
// executable only says how to build it.
#if CLI
import ArgumentParser
import Foundation
import Glibc
import LocalStorage

@main
enum EntryPoint {
    static func main() {
        do {
            var command = try LStore.parseAsRoot()
            try command.run()
        } catch {
            exit(report(error))
        }
    }

    /// Reports an error as one line on standard error (help and version requests print as
    /// usual) and returns the status to exit with.
    static func report(_ error: any Error) -> Int32 {
        switch error {
        case let failure as Failure:
            Terminal.error(failure.message)
            return failure.status.rawValue
        case let error as LocalStorageError:
            let failure = Failure(error)
            Terminal.error(failure.message)
            return failure.status.rawValue
        case let exitCode as ExitCode:
            // A status decided already (lock passes on its command's).
            return exitCode.rawValue
        default:
            let code = LStore.exitCode(for: error)
            if code == .success { LStore.exit(withError: error) }
            var message = LStore.message(for: error)
            // The parser's full text ends with "See 'lstore put --help' for more information.".
            if let hint = LStore.fullMessage(for: error).split(separator: "\n").last(where: { $0.contains("See '") }),
                let start = hint.range(of: "'"), let end = hint.range(of: "'", options: .backwards), start.upperBound < end.lowerBound
            {
                message += " (see '\(hint[start.upperBound..<end.lowerBound])')"
            }
            Terminal.error(message)
            return code.rawValue
        }
    }
}
#else
import Glibc

@main
enum EntryPoint {
    static func main() {
        Terminal.write(
            "lstore was built without its trait: run `swift build -c release --traits CLI --product lstore`\n", to: STDERR_FILENO)
        exit(2)
    }
}
#endif
