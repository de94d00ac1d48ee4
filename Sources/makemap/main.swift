import SMMaps
print("makemap: not yet")
