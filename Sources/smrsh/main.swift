// smrsh: restricted shell for sendmail (being written).
print("smrsh: not yet")
