// SMConfig: the sendmail.cf reader (being written).
