package leaf

// Compressions lists the compression mode of each of lf's connections
// past their handshake, by connection id (what /leafz shows).
func Compressions(lf *Leaf) []string {
	var out []string
	for _, ci := range lf.connections(false) {
		out = append(out, ci.Compression)
	}
	return out
}
