package server

import (
	"crypto/tls"
	"errors"
	"net"

	"natsd.dev/auth"
)

// LeafCredentials are what an inbound leaf node connection presented in
// its CONNECT, for AuthenticateLeaf.
type LeafCredentials struct {
	User, Password, Token string
	// Nkey is the public key that signed Nonce (Sig); JWT a user JWT.
	Nkey, Sig, JWT string
	// Nonce is the nonce of the INFO sent on the connection, as sent.
	Nonce []byte
	// TLS is the connection's TLS state, nil for a plain connection.
	TLS        *tls.ConnectionState
	RemoteAddr net.Addr
	// TLSMap is the leaf node listener's verify_and_map: the verified
	// client certificate names the user (CONNECT's user and password are
	// not checked).
	TLSMap bool
}

// ErrLeafAuth is returned by AuthenticateLeaf for credentials the
// server's users do not accept.
var ErrLeafAuth = errors.New("server: leaf node authorization violation")

// LeafAuthRequired reports whether the server's own authorization (users,
// token, nkeys) applies, so that a leaf node connection without a
// leafnodes { authorization } must authenticate as one of its users.
func (s *Server) LeafAuthRequired() bool {
	return s.auth.Load().chain != nil
}

// AuthenticateLeaf checks the credentials of an inbound leaf node
// connection against the server's users, as a client's (connection type
// LEAFNODE), and returns the account the leaf node binds to. Without any
// authorization configured every leaf node binds to the global account.
// A failure wraps ErrLeafAuth and says why (never the secret).
func (s *Server) AuthenticateLeaf(cr LeafCredentials) (account string, err error) {
	account, _, err = s.AuthenticateLeafUser(cr)
	return account, err
}

// AuthenticateLeafUser is AuthenticateLeaf that also returns the user's
// compiled permissions, nil when the user has none. As upstream, a hub
// checks a leaf node's LS+ against the subscribe permissions and its
// messages against the publish permissions.
func (s *Server) AuthenticateLeafUser(cr LeafCredentials) (account string, perms *auth.Checker, err error) {
	sa := s.auth.Load()
	if sa.chain == nil {
		return GlobalAccountName, nil, nil
	}
	chain := sa.chain
	if cr.TLSMap != sa.tlsMap && sa.cfg != nil {
		// The leaf node listener's verify_and_map, not the clients'.
		if chain, err = sa.cfg.Chain(cr.TLSMap); err != nil {
			return "", nil, errors.Join(ErrLeafAuth, err)
		}
	}
	req := &auth.Request{
		Kind: auth.KindLeafnode, User: cr.User, Password: cr.Password, Token: cr.Token,
		Nkey: cr.Nkey, Sig: cr.Sig, JWT: cr.JWT, Nonce: cr.Nonce, TLS: cr.TLS, RemoteAddr: cr.RemoteAddr,
	}
	id, err := chain.Authenticate(req)
	if err != nil {
		return "", nil, errors.Join(ErrLeafAuth, errors.New(authReason(err)))
	}
	acc, err := s.identityAccount(id)
	if err != nil {
		return "", nil, errors.Join(ErrLeafAuth, err)
	}
	return acc.Name, id.Checker, nil
}

// ClusterName returns the name of the cluster this server belongs to (the
// one the cluster module set with SetClusterName), "" without a cluster.
// A leaf node kind refuses a leaf node of its own cluster with it.
func (s *Server) ClusterName() string { return s.cluster() }

// SetForward replaces the link's forwarding policy for the interest the
// peer registers from now on (AddRemoteSub), as SetFilter does for the
// filter: a leaf node connection learns in the peer's CONNECT whether it
// is the hub or the spoke. Call it before the first AddRemoteSub.
func (l *Link) SetForward(p ForwardPolicy) {
	l.c.mu.Lock()
	l.forward = p
	l.c.mu.Unlock()
}

// LeafCertUser returns which of names the verified client certificate of
// a leaf node connection names (leafnodes { tls { verify_and_map } } with
// leafnodes { authorization { users } }), matched as verify_and_map
// matches client certificates: e-mail addresses, DNS names and URIs of
// the certificate, then its subject DN. It fails without a certificate or
// when the certificate names none of them.
func LeafCertUser(cs *tls.ConnectionState, names []string) (string, error) {
	users := make([]auth.User, 0, len(names))
	for _, n := range names {
		if n != "" {
			users = append(users, auth.User{Name: n})
		}
	}
	u, err := auth.NewUsers(users, "")
	if err != nil {
		return "", err
	}
	id, err := auth.NewCertMap(u).Authenticate(&auth.Request{Kind: auth.KindLeafnode, TLS: cs})
	if err != nil {
		return "", errors.Join(ErrLeafAuth, errors.New(authReason(err)))
	}
	return id.Name, nil
}
