package sandbox

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"time"
)

// The Query protocol's XML namespaces (botocore service-2.json
// metadata.xmlNamespace).
const (
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsVersion   = "2011-06-15"
	iamVersion   = "2010-05-08"
)

// writeResult answers a successful call as the Query protocol does:
//
//	<ActionResponse xmlns="NS"><ActionResult>...</ActionResult>
//	<ResponseMetadata><RequestId>ID</RequestId></ResponseMetadata></ActionResponse>
//
// A nil result (DeleteAccessKey and the like) leaves out ActionResult, as
// IAM does for operations without output.
func writeResult(w http.ResponseWriter, ns, action, requestID string, result any) {
	var b bytes.Buffer
	enc := xml.NewEncoder(&b)
	start := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ns}}}
	err := enc.EncodeToken(start)
	if err == nil && result != nil {
		err = enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(responseMetadata{RequestID: requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(start.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		writeError(w, ns, requestID, newError("InternalFailure", "The request processing has failed because of an unknown error, exception or failure."))
		return
	}
	writeXML(w, http.StatusOK, requestID, b.Bytes())
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// errorResponse is the Query protocol's error envelope:
// <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>.
type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Namespace string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func writeError(w http.ResponseWriter, ns, requestID string, e *apiError) {
	c := e.class()
	body, err := xml.Marshal(errorResponse{Namespace: ns, Type: c.fault, Code: e.Code, Message: e.Message, RequestID: requestID})
	if err != nil {
		body = []byte("<ErrorResponse/>")
	}
	writeXML(w, c.status, requestID, body)
}

func writeXML(w http.ResponseWriter, status int, requestID string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Amzn-Requestid", requestID)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// awsTime is a timestamp as the Query protocol writes it (ISO 8601, UTC).
type awsTime time.Time

func (t awsTime) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format("2006-01-02T15:04:05Z")), nil
}

// credentialsXML is STS's Credentials shape.
type credentialsXML struct {
	AccessKeyID     string  `xml:"AccessKeyId"`
	SecretAccessKey string  `xml:"SecretAccessKey"`
	SessionToken    string  `xml:"SessionToken"`
	Expiration      awsTime `xml:"Expiration"`
}
