// Package leaf connects natsd servers as leaf nodes: the leaf node
// listener (this server is the hub) and remotes (this server is a leaf
// of another's hub), following upstream nats-server 2.x's leaf node
// protocol (LS+, LS-, LMSG) so natsd and upstream servers mix.
//
// ParseConfig turns the leafnodes {} block (alias leaf) of a
// configuration file into Options, with upstream's keys, errors and
// start-up checks; ParseRemoteURL, CheckMinVersion and RemoteName are its
// pieces for the flags and the runtime.
package leaf
