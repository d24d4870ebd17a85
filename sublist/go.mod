module natsd.dev/sublist

go 1.26
