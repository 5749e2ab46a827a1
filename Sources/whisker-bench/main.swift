print("whisker-bench: not yet")
