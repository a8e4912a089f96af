package config

import "factorybridge/buffer"

// BufferOptions translates [buffer] into the buffer's Options; the runtime
// adds the Logger.
func (c *Config) BufferOptions() buffer.Options {
	return buffer.Options{
		Path:              c.Buffer.Path,
		MaxBytes:          c.Buffer.MaxBytes,
		CommitInterval:    c.Buffer.CommitInterval.D(),
		CommitMaxReadings: c.Buffer.CommitMaxReadings,
	}
}
