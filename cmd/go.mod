module natsd.dev/cmd

go 1.26
