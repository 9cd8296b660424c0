print("tinylm")
