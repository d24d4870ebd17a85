// Package mondoc assembles the core's monitoring documents from plain
// data the core fills: /connz (option checks, the ring of closed
// connections, sort keys of closed ones, sorting and paging of small
// keys), /subsz (option checks, summed sublist statistics, paging),
// /accountz and /accstatz (from per-account sums), the /healthz status,
// /varz's process fields, the $SYS envelope of a monitoring request
// (filter, decoding, errors), and upstream's renderings of times. It
// never sees a live connection or account: the core copies their fields
// (under their own locks) into snapshot values, sort keys or sums and
// hands those over.
//
// # Concurrency
//
// Ring is safe for concurrent use; its mutex is a leaf lock. Everything
// else works on values the caller owns.
package mondoc
