module natsd.dev/confparse

go 1.26
