//go:build tools

// Package tools pins the modules the series needs before code imports them.
package tools
import (
 _ "github.com/microsoftgraph/msgraph-sdk-go"
 _ "github.com/microsoftgraph/msgraph-sdk-go-core"
 _ "github.com/Azure/azure-sdk-for-go/sdk/azidentity"
 _ "github.com/slack-go/slack"
 _ "go.etcd.io/bbolt"
 _ "github.com/gorilla/websocket"
 _ "github.com/stretchr/testify/require"
 _ "gopkg.in/yaml.v3"
)
