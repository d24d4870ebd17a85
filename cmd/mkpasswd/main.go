package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"
)

const (
	// passwordLength and passwordAlphabet are upstream's: 22 characters
	// out of 72 give about 135 bits of entropy.
	passwordLength   = 22
	passwordAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@$#%^&*()"
	defaultCost      = 11
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole command; it returns the exit code.
func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mkpasswd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "Usage: mkpasswd [-p <stdin password>] [-c COST]") }
	prompt := fs.Bool("p", false, "read the password from standard input")
	cost := fs.Int("c", defaultCost, "the bcrypt cost, 4 to 31")
	fs.IntVar(cost, "cost", defaultCost, "same as -c")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	if *cost < bcrypt.MinCost || *cost > bcrypt.MaxCost {
		fmt.Fprintf(stderr, "mkpasswd: cost %d is outside the range %d-%d\n", *cost, bcrypt.MinCost, bcrypt.MaxCost)
		return 2
	}

	var password []byte
	if *prompt {
		var err error
		if password, err = readTwice(stdin, stdout); err != nil {
			fmt.Fprintf(stderr, "Error, %v\n", err)
			return 1
		}
	} else {
		password = []byte(genPassword())
		fmt.Fprintf(stdout, "pass: %s\n", password)
	}
	hash, err := bcrypt.GenerateFromPassword(password, *cost)
	if err != nil {
		fmt.Fprintf(stderr, "Error producing bcrypt hash: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "bcrypt hash: %s\n", hash)
	return 0
}

var errMismatch = errors.New("passwords do not match")

// readTwice asks for the password and its confirmation: on a terminal
// without echo, otherwise as two lines of input.
func readTwice(in *os.File, out io.Writer) ([]byte, error) {
	read := term.ReadPassword
	if fd := int(in.Fd()); !term.IsTerminal(fd) {
		lines := bufio.NewReader(in)
		read = func(int) ([]byte, error) {
			line, err := lines.ReadString('\n')
			if err != nil && (err != io.EOF || line == "") {
				return nil, fmt.Errorf("reading the password: %w", err)
			}
			return []byte(strings.TrimRight(line, "\r\n")), nil
		}
	}
	fmt.Fprint(out, "Enter Password: ")
	first, err := read(int(in.Fd()))
	if err != nil {
		return nil, err
	}
	fmt.Fprint(out, "\nReenter Password: ")
	second, err := read(int(in.Fd()))
	if err != nil {
		return nil, err
	}
	fmt.Fprint(out, "\n")
	if !bytes.Equal(first, second) {
		return nil, errMismatch
	}
	return first, nil
}

// genPassword returns a random password of passwordLength characters
// drawn uniformly from passwordAlphabet with crypto/rand.
func genPassword() string {
	const max = 256 - 256%len(passwordAlphabet) // reject bytes that would bias the draw
	n := passwordLength
	b := make([]byte, 0, n)
	var buf [64]byte
	for len(b) < n {
		rand.Read(buf[:])
		for _, c := range buf {
			if int(c) < max && len(b) < n {
				b = append(b, passwordAlphabet[int(c)%len(passwordAlphabet)])
			}
		}
	}
	return string(b)
}
