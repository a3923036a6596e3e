package main

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestQuantileInterpolatesBuckets(t *testing.T) {
	bounds := []float64{10e-6, 50e-6, 100e-6, math.Inf(1)}
	before := histo{bounds: bounds, counts: []float64{5, 5, 5, 5}}
	after := histo{bounds: bounds, counts: []float64{5, 55, 95, 105}} // 50 in (10,50], 40 in (50,100], 10 above
	require.InDelta(t, 42e-6, quantile(before, after, 0.4), 1e-9)     // 10µs + 40/50 of (10µs, 50µs]
	require.InDelta(t, 50e-6, quantile(before, after, 0.5), 1e-9)
	require.InDelta(t, 100e-6, quantile(before, after, 0.99), 1e-9, "the +Inf bucket reports its lower bound")
	require.True(t, math.IsNaN(quantile(after, after, 0.5)))
}

func TestResultQuantiles(t *testing.T) {
	r := &result{}
	for i := 1; i <= 100; i++ {
		r.lat = append(r.lat, time.Duration(i)*time.Millisecond)
	}
	require.Equal(t, 50*time.Millisecond, r.q(0.5))
	require.Equal(t, 99*time.Millisecond, r.q(0.99))
	require.Equal(t, 100*time.Millisecond, r.q(1))
	require.Equal(t, 2*time.Second, median([]time.Duration{3 * time.Second, time.Second, 2 * time.Second}))
}
