package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/v2"
)

// decodeHook reads sizes and durations in every form the parsers accept.
// A bare non-zero number is refused for a duration (it has no unit; in YAML
// "pause-grace: 10" would otherwise mean 10 nanoseconds) and read as bytes
// for a size. It serves time.Duration and *time.Duration fields alike:
// mapstructure runs hooks again on a pointer's element.
func decodeHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType && to != byteSizeType {
		return data, nil
	}
	v := reflect.ValueOf(data)
	switch from.Kind() {
	case reflect.String:
		if to == durationType {
			return ParseDuration(v.String())
		}
		return ParseByteSize(v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return numberTo(to, float64(v.Int()), v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.Uint() > math.MaxInt64 {
			return nil, fmt.Errorf("%d is too large", v.Uint())
		}
		return numberTo(to, float64(v.Uint()), int64(v.Uint()))
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if f != math.Trunc(f) || f > math.MaxInt64 || f < math.MinInt64 {
			return nil, fmt.Errorf("%v is not a whole number", f)
		}
		return numberTo(to, f, int64(f))
	}
	return data, nil
}

func numberTo(to reflect.Type, f float64, n int64) (any, error) {
	if to == durationType {
		if n != 0 {
			return nil, fmt.Errorf("%w: %v: a unit is required (e.g. %vs or %v seconds)", ErrDuration, f, n, n)
		}
		return time.Duration(0), nil
	}
	if n < 0 {
		return nil, fmt.Errorf("%w: %d: must not be negative", ErrByteSize, n)
	}
	return ByteSize(n), nil
}

// decodeInto decodes the merged map onto cfg and turns mapstructure's
// errors into one KeyError per key.
func decodeInto(ko *koanf.Koanf, cfg *Config) Errors {
	err := ko.UnmarshalWithConf("", cfg, koanf.UnmarshalConf{
		DecoderConfig: &mapstructure.DecoderConfig{
			DecodeHook:       decodeHook,
			WeaklyTypedInput: true,
			TagName:          "koanf",
		},
	})
	var errs Errors
	collectDecodeErrors(ko, err, &errs)
	return errs
}

func collectDecodeErrors(ko *koanf.Koanf, err error, errs *Errors) {
	if err == nil {
		return
	}
	// mapstructure joins the errors of sibling fields; each leaf error is a
	// DecodeError carrying the full key.
	if many, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range many.Unwrap() {
			collectDecodeErrors(ko, e, errs)
		}
		return
	}
	if de, ok := err.(*mapstructure.DecodeError); ok && de.Name() != "" {
		errs.add(decodeKeyError(ko, de))
		return
	}
	if inner := errors.Unwrap(err); inner != nil {
		collectDecodeErrors(ko, inner, errs) // mapstructure's "decoding failed" wrapper
		return
	}
	errs.add(err)
}

func decodeKeyError(ko *koanf.Koanf, de *mapstructure.DecodeError) *KeyError {
	cause := de.Unwrap()
	ke := &KeyError{Key: de.Name(), Rule: cause.Error(), Err: cause}
	if errors.Is(cause, ErrDuration) || errors.Is(cause, ErrByteSize) {
		return ke // the parse error quotes the value already
	}
	switch v := ko.Get(de.Name()).(type) {
	case nil, map[string]any, []any:
	default:
		ke.Value = show(v)
	}
	return ke
}
