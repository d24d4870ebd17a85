package route

// UnsupportedKeys are the cluster {} keys refused as not supported yet,
// for the tests of package route_test.
var UnsupportedKeys = func() (keys []string) {
	for k := range unsupportedKeys {
		keys = append(keys, k)
	}
	return keys
}()
