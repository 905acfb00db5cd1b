package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
)

// qrQuietZone is the light border ISO/IEC 18004 asks around a QR code (4
// modules), without which phone cameras often fail to find it.
const qrQuietZone = 4

// Colours for the QR code, whatever the terminal's own: bright white
// glyphs (the light modules) on a black background (the dark ones).
const (
	qrColours = "\x1b[97;40m"
	qrReset   = "\x1b[0m"
)

// writeQR renders text as a QR code on w, two modules per character cell
// (Unicode half blocks: the upper module is the glyph's top half, the
// lower one its bottom half), in explicit colours so that the code reads
// dark-on-light on dark and light terminals alike. It writes text only
// inside the code.
func writeQR(w io.Writer, text string) error {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return fmt.Errorf("make the QR code: %w", err)
	}
	_, err = io.WriteString(w, renderQR(code))
	return err
}

// renderQR draws code with its quiet zone.
func renderQR(code barcode.Barcode) string {
	size := code.Bounds().Dx()
	dark := func(x, y int) bool {
		x, y = x-qrQuietZone, y-qrQuietZone
		if x < 0 || y < 0 || x >= size || y >= size {
			return false
		}
		r, _, _, _ := code.At(x, y).RGBA()
		return r < 0x8000
	}
	full := size + 2*qrQuietZone
	var b strings.Builder
	for y := 0; y < full; y += 2 {
		b.WriteString(qrColours)
		for x := 0; x < full; x++ {
			top, bottom := !dark(x, y), y+1 < full && !dark(x, y+1)
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteString(" ")
			}
		}
		b.WriteString(qrReset + "\n")
	}
	return b.String()
}
