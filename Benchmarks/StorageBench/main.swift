// storage-bench: `swift run -c release --traits Benchmark storage-bench [--quick] [--json FILE] ...`
// See Command.swift for the options and BenchPlan for what runs. Its dependencies (argument
// parsing) sit behind the `Benchmark` trait, so that packages using only the library fetch
// nothing; without the trait this executable only says how to build it.
#if Benchmark
StorageBenchCommand.main()
#else
import Foundation

FileHandle.standardError.write(
    Data(
        "storage-bench was built without its trait: run `swift run -c release --traits Benchmark storage-bench`\n".utf8))
exit(2)
#endif
