package acme

import (
	"context"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The Lease, as client-go's leader election keeps it (the same fields,
// so kubectl and other tools read it alike), in a loop of Sluice's own:
// client-go's leaderelection package links the whole typed clientset and
// its informers, some 40 MB of binary, for a few API calls.
const (
	leaseDuration = 15 * time.Second // a holder that has not renewed for this long may be replaced
	renewDeadline = 10 * time.Second // a holder that could not renew for this long stops ordering
	leaseRetry    = 2 * time.Second
)

type leaseCfg struct {
	cs       objects[coordinationv1.Lease]
	ns, name string
	identity string
}

// leaseState is what this replica has seen of the Lease: another holder
// is presumed alive until its record has not changed for leaseDuration
// of this replica's own clock (no trust in the other clocks).
type leaseState struct {
	observed    string // holder and renew time as last read
	observedAt  time.Time
	lastRenewed time.Time // when this replica last renewed it
}

// elect tries to take or renew the Lease every leaseRetry until ctx ends
// (then releases it if held); while held, this replica orders and renews.
func (m *Manager) elect(ctx context.Context) {
	defer close(m.elected)
	l, st := m.lease, &leaseState{}
	tick := time.NewTicker(leaseRetry)
	defer tick.Stop()
	for {
		held, err := l.try(ctx, st)
		if err != nil && ctx.Err() == nil {
			m.log.Debug("ACME: Lease not renewed", "lease", l.ns+"/"+l.name, "error", err)
		}
		if !held && m.leading.Load() && time.Since(st.lastRenewed) < renewDeadline && err != nil {
			held = true // a failed renewal within the deadline keeps the lead
		}
		if held != m.leading.Load() {
			m.leading.Store(held)
			if held {
				m.log.Info("ACME: this replica holds the Lease and orders certificates", "lease", l.ns+"/"+l.name, "identity", l.identity)
				m.wake()
			} else {
				m.log.Info("ACME: this replica no longer holds the Lease", "lease", l.ns+"/"+l.name)
			}
		}
		select {
		case <-ctx.Done():
			if m.leading.Load() {
				m.leading.Store(false)
				l.release()
			}
			return
		case <-tick.C:
		}
	}
}

// try takes the Lease when it is free or expired, or renews it when held.
func (l *leaseCfg) try(ctx context.Context, st *leaseState) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, leaseRetry*2)
	defer cancel()
	now := metav1.NewMicroTime(time.Now())
	secs := int32(leaseDuration / time.Second)
	lease, err := l.cs.get(ctx, l.ns, l.name)
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: l.ns, Name: l.name},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &l.identity, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now}}
		if err := l.cs.create(ctx, l.ns, lease); err != nil {
			return false, err
		}
		st.lastRenewed = time.Now()
		return true, nil
	}
	if err != nil {
		return false, err
	}
	holder, renewed := "", ""
	if lease.Spec.HolderIdentity != nil {
		holder = *lease.Spec.HolderIdentity
	}
	if lease.Spec.RenewTime != nil {
		renewed = lease.Spec.RenewTime.String()
	}
	if rec := holder + " " + renewed; rec != st.observed {
		st.observed, st.observedAt = rec, time.Now()
	}
	dur := leaseDuration
	if lease.Spec.LeaseDurationSeconds != nil {
		dur = time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second
	}
	if holder != "" && holder != l.identity && time.Since(st.observedAt) < dur {
		return false, nil // another replica holds it
	}
	if holder != l.identity {
		lease.Spec.AcquireTime = &now
		t := int32(0)
		if lease.Spec.LeaseTransitions != nil {
			t = *lease.Spec.LeaseTransitions
		}
		t++
		lease.Spec.LeaseTransitions = &t
	}
	lease.Spec.HolderIdentity, lease.Spec.RenewTime, lease.Spec.LeaseDurationSeconds = &l.identity, &now, &secs
	if err := l.cs.update(ctx, l.ns, lease); err != nil {
		return false, err // a conflict: another replica wrote first
	}
	st.lastRenewed = time.Now()
	return true, nil
}

// release gives the Lease up at once (as client-go's ReleaseOnCancel: no
// holder, one second), so another replica takes over without waiting.
func (l *leaseCfg) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lease, err := l.cs.get(ctx, l.ns, l.name)
	if err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != l.identity {
		return
	}
	empty, one := "", int32(1)
	lease.Spec.HolderIdentity, lease.Spec.LeaseDurationSeconds = &empty, &one
	_ = l.cs.update(ctx, l.ns, lease)
}
