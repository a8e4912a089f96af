package demo_test

import (
	"fmt"
	"time"

	"factorybridge/internal/demo"
)

// A line advanced by hand: at speed 5 one wall-clock second is five
// simulated seconds, enough for Assembly to take its first part.
func ExampleLine() {
	start := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
	line := demo.NewLine(1, demo.DefaultSpeed)
	line.Advance(start)
	for _, c := range line.Advance(start.Add(time.Second)) {
		fmt.Printf("%s %s.%s = %v\n", c.Time.Sub(start), c.Station, c.Variable, c.Value)
	}
	// Output:
	// 400ms assembly.ProductSerialNumber = 1
	// 400ms assembly.Status = 1
	// 400ms assembly.Pressure = 2455
}
