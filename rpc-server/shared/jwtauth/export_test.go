package jwtauth

// CacheLen is the number of tokens v remembers.
func CacheLen(v *Verifier) int { return v.cache.len() }
