package route

import "natsd.dev/server"

// The route kind's own close reasons (server.LinkKindReason up), with
// upstream's texts for the logs.
const (
	// ReasonDuplicateRoute closes the second connection to a peer.
	ReasonDuplicateRoute = server.LinkKindReason + iota
	// ReasonClusterNameConflict closes a route to another cluster.
	ReasonClusterNameConflict
	// ReasonRouteRemoved closes a route SetRoutes no longer lists.
	ReasonRouteRemoved
)

var routeReasons = []string{
	ReasonDuplicateRoute - server.LinkKindReason:      "Duplicate Route",
	ReasonClusterNameConflict - server.LinkKindReason: "Cluster Name Conflict",
	ReasonRouteRemoved - server.LinkKindReason:        "Route Removed",
}

// routeForward is the routes' forwarding policy: a message that came over
// a route never leaves over another (one hop in a full mesh).
var routeForward = server.DefaultForwardPolicy(server.ConnRoute)

// linkConfig is how every route's link is created.
func (r *route) linkConfig() server.LinkConfig {
	return server.LinkConfig{
		Kind:    server.ConnRoute,
		Encoder: server.RouteEncoder{},
		Forward: routeForward,
		Reasons: routeReasons,
		OnClose: r.onClose,
	}
}

// reasonText is the log text of a route's close reason.
func reasonText(reason server.LinkCloseReason) string {
	if i := int(reason) - int(server.LinkKindReason); i >= 0 && i < len(routeReasons) {
		return routeReasons[i]
	}
	return reason.String()
}

// propagates reports whether interest of the given origin is announced to
// the routes: local interest always, a link's when messages may flow from
// a route to links of its kind (a leaf node's, not a route's or a
// gateway's: those servers have links of their own).
func propagates(ev *server.InterestEvent) bool {
	if !ev.Origin.IsLink() {
		return true
	}
	return server.DefaultForwardPolicy(ev.Origin).Allows(server.ConnRoute)
}
