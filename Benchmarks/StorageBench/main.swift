print("storage-bench: not built yet")
