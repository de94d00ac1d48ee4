import SMEngine
print("sendmail: not yet")
