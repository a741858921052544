// Package tlsconf is the TLS state a routing table carries, as Traefik's
// TLS manager keeps it: the default certificate store (certificates from
// Secrets, the default certificate), the TLS options, and per entry point
// which option serves which server name. The compiler builds a Set with
// each table; a TLS front end reads the Set of the table current when a
// handshake starts (ConfigFor), so a Secret, TLSOption or TLSStore edit
// applies to the next handshake and never to connections already open.
//
// Choices are Traefik's (pkg/tls, pkg/server/router/tcp): the option by
// server name, exact names before wildcards, else the default option; the
// certificate by server name in Traefik's order (Store), else the default
// certificate unless the option is sniStrict; options built as its
// buildTLSConfig builds them. Choosing allocates nothing for a
// ClientHello with a server name and scans nothing: maps, built once per
// table.
//
// Everything here is immutable once built but TicketKeys, which rotate
// and are shared by every table's configurations.
package tlsconf
