// Command mkpasswd makes bcrypt hashes of passwords and tokens for the
// authorization {} block of a natsd (or nats-server) configuration, like
// upstream's util/mkpasswd.
//
// Usage:
//
//	mkpasswd [-p] [-c COST]
//
// Without -p it generates a random password of 22 characters (letters,
// digits and !@$#%^&*()) and prints it and its hash:
//
//	pass: ...
//	bcrypt hash: $2a$11$...
//
// With -p it asks for a password twice on the terminal, without echo, and
// prints only the hash; the two entries must match. When standard input
// is not a terminal it reads the two entries as lines, so that scripts
// can pipe a password in.
//
// -c (also -cost) sets the bcrypt cost, 4 to 31, 11 by default. Each step
// doubles the time the server spends checking a password; 11 takes a good
// fraction of a second on a small machine, by design.
//
// The exit status is 0 on success, 1 on an error (the entries differ,
// standard input cannot be read) and 2 on bad flags.
package main
